// /teams/: the caller's teams and their members.
import { mountIsland } from "../lib/mount";
import { TeamsPage } from "../pages/teams/TeamsPage";

mountIsland("teams-root", TeamsPage);
