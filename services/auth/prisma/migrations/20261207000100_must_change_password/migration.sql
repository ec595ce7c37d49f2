-- The bootstrap admin's generated password: the web app asks them to change it after signing in.
ALTER TABLE "users" ADD COLUMN "must_change_password" BOOLEAN NOT NULL DEFAULT false;
