// The DAG editor island (#editor-root): {workflowId, canModify, canExecute, canDelete}.
import { EditorApp } from "../editor/EditorApp";
import { mountIsland } from "../lib/mount";

mountIsland("editor-root", EditorApp);
