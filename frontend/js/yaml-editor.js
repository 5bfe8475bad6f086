// The YAML editor of `/yaml/:kind/:namespace/:name`: CodeMirror 6 over the page's textarea,
// bundled by `build_editor` (scripts/lib.sh) into `/pkg/yaml-editor.js`, which only that page
// loads.
//
// The textarea stays the source of truth for the leptos page (it works without JavaScript and
// before hydration). Once the page has hydrated (`data-ready` on the textarea), the editor
// replaces it on screen and writes every change back with an `input` event. It also parses the
// YAML (the `yaml` package) and hands the document as JSON to the page through the hidden
// `#yaml-json` input; the page runs the forms' rules on it (in wasm) and answers with the issues
// in the textarea's `data-issues`, which are shown at the line of their field. Syntax errors
// are shown at their own line without a round trip.

import { Compartment, EditorState } from "@codemirror/state";
import {
  EditorView,
  drawSelection,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  HighlightStyle,
  bracketMatching,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { tags } from "@lezer/highlight";
import { yaml } from "@codemirror/lang-yaml";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { unifiedMergeView } from "@codemirror/merge";
import { isMap, isSeq, parseDocument } from "yaml";

// Colours from the stylesheet's variables, so light and dark schemes keep their contrast.
const highlight = HighlightStyle.define([
  { tag: [tags.definition(tags.propertyName), tags.propertyName], color: "var(--accent)" },
  { tag: [tags.string, tags.special(tags.string)], color: "var(--ok)" },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: "var(--purple)" },
  { tag: [tags.comment, tags.lineComment], color: "var(--muted)", fontStyle: "italic" },
  { tag: [tags.meta, tags.keyword, tags.labelName, tags.typeName], color: "var(--error-text)" },
]);
const theme = EditorView.theme({
  "&": { backgroundColor: "var(--panel)", color: "var(--text)" },
  ".cm-content": { caretColor: "var(--text)" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--text)" },
  ".cm-gutters": { backgroundColor: "var(--panel)", color: "var(--muted)", borderRight: "1px solid var(--line)" },
  ".cm-activeLineGutter": { backgroundColor: "var(--chip)" },
});

const SELECTOR = "textarea[data-yaml-editor][data-ready]";
const attached = new WeakSet();

/// The offset of the key (or item) at a dotted field path (`spec.proxy.target_list[1]`), or of
/// the deepest part of it that exists.
function offsetOf(doc, field) {
  let node = doc.contents;
  let offset = node?.range?.[0] ?? 0;
  const parts = field.replace(/\[(\d+)\]/g, ".$1").split(".").filter((p) => p !== "");
  for (const part of parts) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String(p.key?.value ?? p.key) === part);
      if (!pair) break;
      offset = pair.key?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && /^\d+$/.test(part) && node.items[Number(part)]) {
      node = node.items[Number(part)];
      offset = node?.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return offset;
}

/// A diagnostic over the whole line holding `offset`.
function atLine(state, offset, severity, message) {
  const line = state.doc.lineAt(Math.min(Math.max(offset, 0), state.doc.length));
  return { from: line.from, to: line.to, severity, message, source: "tollgate" };
}

function attach(textarea) {
  attached.add(textarea);
  const host = textarea.parentElement;
  const json = host.querySelector("#yaml-json");
  const original = textarea.dataset.original;
  const diff = new Compartment();
  let parsed = null;
  let syntax = [];

  const diagnostics = (state) => {
    const found = [...syntax];
    if (parsed && syntax.length === 0) {
      let issues = [];
      try {
        issues = JSON.parse(textarea.dataset.issues || "[]");
      } catch {
        issues = [];
      }
      for (const issue of issues) {
        const severity = issue.severity === "warning" ? "warning" : "error";
        found.push(atLine(state, offsetOf(parsed, issue.field), severity, `${issue.field}: ${issue.message}`));
      }
    }
    return found;
  };
  const show = () => view.dispatch(setDiagnostics(view.state, diagnostics(view.state)));

  // Parses the text, keeps its syntax errors, and hands the document to the page's rules.
  const check = (text) => {
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    syntax = doc.errors.map((e) => ({
      ...atLine(view.state, e.pos?.[0] ?? 0, "error", e.message.split("\n")[0].replace(/:$/, "")),
    }));
    parsed = syntax.length === 0 ? doc : null;
    let value = null;
    if (parsed) {
      try {
        value = parsed.toJS({ maxAliasCount: 100 });
      } catch (e) {
        syntax = [atLine(view.state, 0, "error", String(e.message || e))];
        parsed = null;
      }
    }
    if (json) {
      json.value = JSON.stringify(value);
      json.dispatchEvent(new Event("input", { bubbles: true }));
    }
    show();
  };

  const crlf = textarea.value.includes("\r\n");
  const view = new EditorView({
    parent: host,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        crlf ? EditorState.lineSeparator.of("\r\n") : [],
        lineNumbers(),
        highlightActiveLineGutter(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        indentUnit.of("  "),
        syntaxHighlighting(highlight),
        theme,
        // Long lines wrap and the editor grows with its text: no scrolling region of its own
        // (which keyboard users could not reach on a phone).
        EditorView.lineWrapping,
        yaml(),
        lintGutter(),
        // Tab indents; Escape then Tab moves the focus on, for keyboard users.
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ "aria-label": "YAML" }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          const text = update.state.doc.toString();
          textarea.value = text;
          textarea.dispatchEvent(new Event("input", { bubbles: true }));
          // Diagnostics are a transaction of their own, after this update.
          queueMicrotask(() => check(text));
        }),
        diff.of([]),
      ],
    }),
  });
  view.dom.classList.add("yaml-codemirror");

  if (original !== undefined) {
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.id = "yaml-diff-toggle";
    toggle.textContent = "Show changes against the repo";
    toggle.setAttribute("aria-pressed", "false");
    toggle.addEventListener("click", () => {
      const on = toggle.getAttribute("aria-pressed") !== "true";
      toggle.setAttribute("aria-pressed", String(on));
      view.dispatch({
        effects: diff.reconfigure(
          on ? unifiedMergeView({ original, mergeControls: false, highlightChanges: true }) : [],
        ),
      });
    });
    host.insertBefore(toggle, view.dom);
  }
  textarea.hidden = true;
  new MutationObserver(show).observe(textarea, { attributes: true, attributeFilter: ["data-issues"] });
  check(view.state.doc.toString());
}

function attachAll() {
  for (const textarea of document.querySelectorAll(SELECTOR)) {
    if (!attached.has(textarea)) attach(textarea);
  }
}

// The page may hydrate after this module runs, and in-app navigation renders the page again
// without running the module again: watch for textareas becoming ready.
new MutationObserver(attachAll).observe(document.body, {
  subtree: true,
  childList: true,
  attributes: true,
  attributeFilter: ["data-ready"],
});
attachAll();
