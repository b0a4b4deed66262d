-- The send counts of inboxes (mail_sends) were never dropped: one row for
-- every address ever mailed, however long ago. A row whose hour has passed
-- and whose last send is older than the gap between sends counts nothing
-- that a fresh row would not (the next send starts a new hour at one), so
-- the insert that counts a new inbox drops those, as the short-lived
-- tables of migration 0011 are kept small. The times are the engine's
-- (window_at and last_at of the new row), never SQLite's clock; 3600 and
-- 20 are mailWindow and mailGap in wasm/engine/mail.go.
CREATE INDEX mail_sends_window ON mail_sends (window_at);

CREATE TRIGGER mail_sends_expired AFTER INSERT ON mail_sends
BEGIN
  DELETE FROM mail_sends WHERE window_at <= NEW.window_at - 3600 AND last_at <= NEW.last_at - 20;
END;
