-- Live websocket sessions end when the credentials behind them change. The
-- triggers queue the notification in the transaction that makes the change, so
-- no code path (account service, case action, admin tool, manual SQL) can
-- forget it, and it is delivered only if the change commits. The channel name
-- is pubsub.SessionsChannel; the payload is pubsub.SessionChange.
CREATE FUNCTION notify_session_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        -- Role, status or password: every session of the user.
        PERFORM pg_notify('riskgraph_sessions', json_build_object('userId', OLD.id)::text);
    ELSE
        PERFORM pg_notify('riskgraph_sessions', json_build_object('userId', OLD.user_id, 'sessionId', OLD.id)::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_session_change AFTER UPDATE OF role, status, password_hash ON users
    FOR EACH ROW
    WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.password_hash IS DISTINCT FROM NEW.password_hash)
    EXECUTE FUNCTION notify_session_change();
CREATE TRIGGER users_deleted_session_change AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_session_change();

-- A revoked, shortened or deleted session (logout, refresh-token replay,
-- password change ending the other sessions).
CREATE TRIGGER sessions_session_change AFTER UPDATE OF revoked_at, expires_at ON sessions
    FOR EACH ROW
    WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL OR NEW.expires_at < OLD.expires_at)
    EXECUTE FUNCTION notify_session_change();
CREATE TRIGGER sessions_deleted_session_change AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION notify_session_change();
