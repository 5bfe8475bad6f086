//! The `tollgate` binary and its browser bundle: `check-bundle` reports what the binary serves,
//! and `serve`/`demo` refuse to start without a bundle unless told to.
//!
//! A debug binary reads `site/pkg/` at run time, so which refusal is seen depends on the
//! checkout: without a bundle (a fresh clone) the refusal is checked; with one, that part
//! prints `skipped: …`. The check itself is unit-tested both ways in `web::assets`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use tollgate::web::assets;

fn tollgate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    cmd.env_remove("TOLLGATE__SERVER__ALLOW_MISSING_BUNDLE")
        .env("TOLLGATE__SERVER__BIND", "127.0.0.1:0")
        .env("TOLLGATE_LOG", "warn");
    cmd
}

/// Whether the binary (which reads the same `site/pkg/` as this test) has its whole bundle.
fn bundle_complete() -> bool {
    assets::check_bundle(&assets::bundle()).is_ok()
}

/// Runs `cmd` until it prints that it is serving (then stops it) or exits on its own.
fn start(mut cmd: Command) -> Result<(), Output> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("Tollgate is running at") && tx.send(()).is_err() {
                break;
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(()) => {
            child.kill().unwrap();
            child.wait().unwrap();
            Ok(())
        }
        // The output closed without the line: the process exited.
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(child.wait_with_output().unwrap()),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            child.kill().unwrap();
            panic!("tollgate neither started nor exited within 120 s");
        }
    }
}

#[test]
fn check_bundle_reports_the_bundle_the_binary_serves() {
    let out = tollgate().arg("check-bundle").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let files = assets::bundle();
    match assets::check_bundle(&files) {
        Ok(()) => {
            assert!(out.status.success(), "{stdout}{stderr}");
            let id = assets::bundle_id(&files);
            assert!(
                stdout.contains(&format!("browser bundle {id}: complete")),
                "{stdout}"
            );
        }
        Err(missing) => {
            assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
            assert!(stderr.contains(&missing.to_string()), "{stderr}");
        }
    }
}

#[test]
fn the_demo_refuses_to_start_without_its_bundle_unless_told_to() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("demo");
    let demo = || {
        let mut cmd = tollgate();
        cmd.arg("demo").arg("--data-dir").arg(&data_dir);
        cmd
    };
    if bundle_complete() {
        println!("skipped: the refusal (site/pkg holds a bundle, which this debug binary reads)");
        assert!(start(demo()).is_ok(), "the demo did not start");
        return;
    }
    let out = start(demo()).expect_err("started without a bundle");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("has no browser bundle (missing frontend_bg.wasm, frontend.js)")
            && stderr.contains("--allow-missing-bundle"),
        "{stderr}"
    );
    // Refused before anything was written.
    assert!(!data_dir.exists());

    let mut flag = demo();
    flag.arg("--allow-missing-bundle");
    assert!(start(flag).is_ok(), "--allow-missing-bundle did not start");
    let mut key = demo();
    key.env("TOLLGATE__SERVER__ALLOW_MISSING_BUNDLE", "true");
    assert!(
        start(key).is_ok(),
        "server.allow_missing_bundle did not start"
    );
}
