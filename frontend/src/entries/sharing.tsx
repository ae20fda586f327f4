// The workflow page's Sharing tab.
import { mountIsland } from "../lib/mount";
import { SharingPage } from "../pages/sharing/SharingPage";

mountIsland("sharing-root", SharingPage);
