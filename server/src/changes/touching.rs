//! Changes seen from elsewhere: the changes a resource page lists (open and merged), and the
//! merged change behind a cluster's pending rollout on the status board.

use super::{ChangeService, db_err, store};
use crate::error::Error;
use frontend::api::{ChangeRef, ChangeSummary, StatusReport};
use std::collections::HashMap;

/// A change as a resource page lists it (no counts).
pub(super) fn summary(row: store::ChangeRow) -> ChangeSummary {
    ChangeSummary {
        id: row.id,
        title: row.title,
        author: row.author,
        state: row.state.to_string(),
        approvals: 0,
        conflict: row.conflict.is_some(),
        created_at: row.created_at,
        resources: Vec::new(),
    }
}

impl ChangeService {
    /// Changes touching one resource: the open ones (and drafts) first, then the merged ones,
    /// newest first; `state` tells them apart.
    pub async fn for_resource(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<ChangeSummary>, Error> {
        let mut changes = self.open_for(kind, namespace, name).await?;
        let merged = store::merged_touching(&self.db, kind, namespace, name)
            .await
            .map_err(db_err)?;
        changes.extend(merged.into_iter().map(summary));
        Ok(changes)
    }

    /// Names the change each *pending* cell waits for: the merged change whose merge commit is
    /// the head of its cluster's branch. Cells whose head Tollgate did not merge stay unnamed.
    pub async fn name_rollouts(&self, report: &mut StatusReport) {
        let heads: HashMap<String, String> = report
            .clusters
            .iter()
            .filter_map(|c| Some((c.name.clone(), c.head_revision.clone()?)))
            .collect();
        let mut known: HashMap<String, Option<ChangeRef>> = HashMap::new();
        for row in &mut report.rows {
            for cell in row.cells.iter_mut().filter(|c| c.state == "pending") {
                let Some(head) = heads.get(&cell.cluster) else {
                    continue;
                };
                if !known.contains_key(head) {
                    let found = match store::merged_as(&self.db, head).await {
                        Ok(found) => found.map(|r| ChangeRef {
                            id: r.id,
                            title: r.title,
                        }),
                        Err(e) => {
                            tracing::warn!(error = %e, "looking up the change behind a rollout");
                            None
                        }
                    };
                    known.insert(head.clone(), found);
                }
                cell.change = known.get(head).cloned().flatten();
            }
        }
    }
}
