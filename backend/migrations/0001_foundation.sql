-- Foundation: extensions and operational tables every later migration may rely on.

-- Liveness of background workers, written by each worker on a schedule; shown in /metrics.
CREATE TABLE worker_heartbeats (
    worker_name text PRIMARY KEY,
    hostname text NOT NULL,
    pid integer NOT NULL CHECK (pid > 0),
    started_at timestamptz NOT NULL,
    beat_at timestamptz NOT NULL,
    jobs_done bigint NOT NULL DEFAULT 0 CHECK (jobs_done >= 0)
);

COMMENT ON TABLE worker_heartbeats IS 'Operational: one row per running worker process, no personal data.';
