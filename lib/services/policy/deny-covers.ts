// Kept for the dashboard's imports: the logic is pure and lives with the engine.
export { denyEntryCovering } from "../../policy/deny-cover";
