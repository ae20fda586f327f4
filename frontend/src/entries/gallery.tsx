// /templates/: the template gallery.
import { mountIsland } from "../lib/mount";
import { GalleryPage } from "../pages/gallery/GalleryPage";

mountIsland("gallery-root", GalleryPage);
