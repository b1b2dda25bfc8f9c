export * from "./events";
export * from "./append";
export * from "./verify";
export * from "./caps";
