// The versions island (#versions-root): {workflowId, canModify}.
import { VersionsApp } from "../editor/versions/VersionsApp";
import { mountIsland } from "../lib/mount";

mountIsland("versions-root", VersionsApp);
