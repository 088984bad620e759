// zod's English messages for the schemas built with zod's mini API (imported by each module that
// builds them; the classic API sets the same messages when it loads, the mini API sets none). The
// mini API serves the schemas every cold FC callback builds at load (environment, config, FC context
// and event, callback body, job, claim record): the classic one costs a cold instance several
// milliseconds more to load and to build schemas with, for the same parser and messages.
import { config, locales } from "zod/mini";

config(locales.en());
