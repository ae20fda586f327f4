// /models/ (#models-root {isStaff}): the models steps may name, and a Test button each.
import { mountIsland } from "../lib/mount";
import { ModelsPage } from "../pages/models/ModelsPage";

mountIsland("models-root", ModelsPage);
