-- The cluster timeline: what the status engine observed, as episodes with a start and an end
-- (NULL while it lasts), never snapshots. `track` says what an episode is about:
--   applied      the revision the cluster's agent reported applied (`state` is the commit);
--   unreachable  the cluster could not be reached (`detail` is why);
--   state        one resource's sync state in the cluster (`state`: synced, pending, drifted,
--                failed, missing, orphaned; `detail`: JSON with the drifted fields and their
--                field managers, or the operator's error).
-- Cluster-wide tracks leave the resource columns empty. At most one episode per cluster, track
-- and resource is open (an index says so). Times are RFC 3339 UTC with microseconds, so text order is time order.
CREATE TABLE timeline_episodes (
    id BIGSERIAL PRIMARY KEY,
    cluster TEXT NOT NULL,
    track TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT '',
    namespace TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE INDEX timeline_by_resource ON timeline_episodes (kind, namespace, name, cluster, started_at);
CREATE INDEX timeline_by_track ON timeline_episodes (cluster, track, started_at);
CREATE INDEX timeline_by_start ON timeline_episodes (started_at);
-- One open episode per track, whichever replica writes it.
CREATE UNIQUE INDEX timeline_one_open ON timeline_episodes (cluster, track, kind, namespace, name) WHERE ended_at IS NULL;
