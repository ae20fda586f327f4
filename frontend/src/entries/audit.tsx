// /audit/ (#audit-root): the audit log, {isStaff}.
import { AuditPage } from "../insights/AuditPage";
import { mountIsland } from "../lib/mount";

mountIsland("audit-root", AuditPage);
