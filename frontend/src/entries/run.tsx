// The live run view (#run-root {workflowId, executionId, canExecute}).
import { mountIsland } from "../lib/mount";
import { RunPage } from "../run/RunPage";

mountIsland("run-root", RunPage);
