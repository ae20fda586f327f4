// The workflow's Analytics tab (#analytics-root): {workflowId, canModify}.
import { AnalyticsPage } from "../insights/AnalyticsPage";
import { mountIsland } from "../lib/mount";

mountIsland("analytics-root", AnalyticsPage);
