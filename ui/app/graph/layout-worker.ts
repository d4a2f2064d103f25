// Placeholder until the graph view lands.
export {};
