-- Cuts of the rollups (issue 10/12: read speed): hour and day cells are also kept added up over all but one
-- dimension, so an hourly series by model over a month reads 720 × 4 model cells instead of every cell of every
-- device, tag and dataset. A cut cell lives in usage_rollups beside the full ones, at level
-- level + 3 × cut (cut 1 keeps no dimension, 2 model, 3 device, 4 tag, 5 tenant, 6 dataset; every cut keeps
-- source_kind and ok, which every answer filters or counts by), with the dimensions it does not keep as ''.
-- The fold writes them in the transaction that writes the full cells. cuts_built says whether the cuts of the
-- cells already stored were made: the next fold makes them once (from the full cells) before it folds new rows.
ALTER TABLE usage_fold ADD COLUMN cuts_built INTEGER NOT NULL DEFAULT 0;
UPDATE usage_fold SET cuts_built = 1 WHERE NOT EXISTS (SELECT 1 FROM usage_rollups WHERE level IN (1, 2));
