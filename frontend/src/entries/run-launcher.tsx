// The Run button on every workflow page (#run-launcher-root {workflowId, canExecute}).
import { mountIsland } from "../lib/mount";
import { RunLauncher } from "../run/RunLauncher";

mountIsland("run-launcher-root", RunLauncher);
