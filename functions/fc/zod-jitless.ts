// Imported first by the callback and the gateway's entry, before any schema is built (zod reads the setting when a schema is
// constructed): zod parses without compiling a parser per object schema with `new Function`. On a cold
// instance that compiling cost ~20 ms of the first request's CPU, and steady-state parsing measured
// no faster with it (npm run bench's callback and cold-start steps).
import * as z from "zod/mini";

z.config({ jitless: true });
