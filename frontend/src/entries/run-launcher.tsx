// Every workflow page: the Run button (#run-launcher-root {workflowId, canExecute}) and
// the live status and version in the header (#workflow-header).
import { mountIsland } from "../lib/mount";
import { keepWorkflowHeaderLive } from "../lib/workflowHeader";
import { RunLauncher } from "../run/RunLauncher";

mountIsland("run-launcher-root", RunLauncher);
keepWorkflowHeaderLive(document.getElementById("workflow-header"));
