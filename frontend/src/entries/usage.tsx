// /usage/ (#usage-root): resource usage and cost by workflow, user, team or model.
import { UsagePage } from "../insights/UsagePage";
import { mountIsland } from "../lib/mount";

mountIsland("usage-root", UsagePage);
