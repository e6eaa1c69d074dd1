#!/usr/bin/env node
// The `dropout-lab` command: the library's CLI (dropout-lab/cli), installed with the plotting stack
// and the command-line libraries it needs, which the library itself leaves out.
import 'dropout-lab/cli';
