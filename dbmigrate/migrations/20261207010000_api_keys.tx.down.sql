DROP TRIGGER api_keys_deleted_session_change ON api_keys;
DROP TRIGGER api_keys_session_change ON api_keys;
DROP FUNCTION notify_api_key_change();
DROP TABLE api_keys;
