DROP TRIGGER sessions_deleted_session_change ON sessions;
DROP TRIGGER sessions_session_change ON sessions;
DROP TRIGGER users_deleted_session_change ON users;
DROP TRIGGER users_session_change ON users;
DROP FUNCTION notify_session_change();
