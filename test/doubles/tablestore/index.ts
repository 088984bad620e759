// A Tablestore double: the real `tablestore` SDK (and our Tablestore backend) runs against it unchanged.
// See README.md for what it checks and how it answers.
export { startTablestoreDouble, type TablestoreDouble, type TablestoreDoubleOptions, type TablestoreFaultKind, type TablestoreRequest } from "./server.js";
