DROP TABLE IF EXISTS audit_logs, login_logs, user_devices, devices, refresh_tokens, sessions, users;
