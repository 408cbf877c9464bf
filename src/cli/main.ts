#!/usr/bin/env node
// Placeholder entry until the CLI lands; keeps `bin` resolvable.
process.stdout.write("postacert: commands are coming\n");
