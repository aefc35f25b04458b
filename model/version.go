package model

// Version is the Helios release every binary reports (CLI, master, agent).
const Version = "0.1.0"
