export * from "./document";
export * from "./effective";
export * from "./engine";
export * from "./normalize";
export * from "./pattern";
export * from "./target";
export * from "./diff";
export * from "./time-bound";
