-- What a group carries: the models its members may use (a model named here is group-restricted:
-- only members of a group that lists it may use it) and limits (NULL = the group sets none; 0 =
-- unlimited). chat-api combines them with the user's own limits. Expand only: new columns.
ALTER TABLE "groups" ADD COLUMN "allowed_models" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
ALTER TABLE "groups" ADD COLUMN "requests_per_minute" INTEGER;
ALTER TABLE "groups" ADD COLUMN "daily_token_budget" INTEGER;
ALTER TABLE "groups" ADD COLUMN "max_concurrent_streams" INTEGER;
ALTER TABLE "groups" ADD CONSTRAINT "groups_limits_check" CHECK (
  ("requests_per_minute" IS NULL OR "requests_per_minute" >= 0) AND
  ("daily_token_budget" IS NULL OR "daily_token_budget" >= 0) AND
  ("max_concurrent_streams" IS NULL OR "max_concurrent_streams" >= 0)
);
