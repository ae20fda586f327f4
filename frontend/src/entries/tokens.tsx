// /settings/tokens/: the caller's API keys.
import { mountIsland } from "../lib/mount";
import { TokensPage } from "../pages/tokens/TokensPage";

mountIsland("tokens-root", TokensPage);
