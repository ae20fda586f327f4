// Loaded by every page (templates/base.html): the shared stylesheet.
import "../styles/app.css";
