-- API keys of SERVICE accounts (payment systems). The key itself is never
-- stored: only its SHA-256 (key_hash, how a presented key is looked up) and a
-- short public prefix that listings show. A rotation is a new row
-- (rotated_from) while the old one keeps working until its shortened expiry.
CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    prefix       text        NOT NULL,
    key_hash     bytea       NOT NULL UNIQUE,
    scopes       text[]      NOT NULL,
    created_by   bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    rotated_from bigint      REFERENCES api_keys (id) ON DELETE SET NULL
);
CREATE INDEX api_keys_user_id ON api_keys (user_id, id);

-- A revoked, shortened (rotation) or deleted key is announced on the session
-- channel (pubsub.SessionsChannel; payload pubsub.SessionChange with apiKeyId)
-- in the transaction that makes the change, so every instance drops its cached
-- copy and ends the websockets the key opened. Changes to the key's user
-- (role, status) are announced by the users triggers of 20261206221500_session_notify.
CREATE FUNCTION notify_api_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('riskgraph_sessions', json_build_object('userId', OLD.user_id, 'apiKeyId', OLD.id)::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_session_change AFTER UPDATE OF revoked_at, expires_at ON api_keys
    FOR EACH ROW
    WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
          OR NEW.expires_at IS NOT NULL AND (OLD.expires_at IS NULL OR NEW.expires_at < OLD.expires_at))
    EXECUTE FUNCTION notify_api_key_change();
CREATE TRIGGER api_keys_deleted_session_change AFTER DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION notify_api_key_change();
