-- What an adopt-drift change adopts (cluster, resource, resourceVersion, fields and their live
-- values), as JSON, so the change can tell when the cluster no longer runs it.
ALTER TABLE changes ADD COLUMN adoption TEXT;
