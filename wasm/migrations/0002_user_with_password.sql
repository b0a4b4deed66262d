-- A user signing up with a password is two rows, written by one statement:
-- an INSERT into this view, whose trigger inserts the user and the password
-- together. SQLite (and so D1) makes a statement and its triggers atomic,
-- so a crash can no longer leave a user whose email can never get a
-- password. D1 has no transactions; see RATIONALE.md, "Why no transactions?".
CREATE VIEW user_with_password AS
  SELECT u.user_id, u.email, u.email_id, u.email_verified, u.first_name, u.middle_name, u.last_name,
         u.trusted_metadata, u.untrusted_metadata, u.created_at, p.password_id, p.hash
  FROM users u JOIN passwords p ON p.user_id = u.user_id;

CREATE TRIGGER user_with_password_insert INSTEAD OF INSERT ON user_with_password
BEGIN
  INSERT INTO users (user_id, email, email_id, email_verified, first_name, middle_name, last_name,
                     trusted_metadata, untrusted_metadata, created_at)
  VALUES (NEW.user_id, NEW.email, NEW.email_id, NEW.email_verified, NEW.first_name, NEW.middle_name,
          NEW.last_name, NEW.trusted_metadata, NEW.untrusted_metadata, NEW.created_at);
  INSERT INTO passwords (user_id, password_id, hash, created_at, updated_at)
  VALUES (NEW.user_id, NEW.password_id, NEW.hash, NEW.created_at, NEW.created_at);
END;
