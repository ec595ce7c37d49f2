-- Admin → Model pool's "available to users" switch, per model (its tagged name, as Ollama lists it).
-- A model without a row is available, so an upgrade hides nothing people use: every model already
-- in the pool, the chart's pre-pulled models and DEFAULT_MODEL stay as they were. A model first
-- pulled through Corral's admin page gets a row with available_to_users = false until an admin
-- switches it on; removing a model from the pool deletes its row.
-- Expand-only: a new table; the previous release ignores it.

-- CreateTable
CREATE TABLE "model_availability" (
    "model" TEXT NOT NULL,
    "available_to_users" BOOLEAN NOT NULL,
    "updated_by" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_availability_pkey" PRIMARY KEY ("model")
);
