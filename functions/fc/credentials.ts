// The function role's temporary credentials as FC hands them to each invocation (context.credentials,
// else the ALIBABA_CLOUD_* variables FC sets): the table signs every request with the latest ones, so
// FC's rotation is followed and no table key is stored in the function's environment.
import type { TableKind } from "../core/store/kind.js";
import type { AliyunCredentials, OpenTableOptions } from "../core/store/table.js";
import type { FcContext } from "./context.js";

export interface RoleCredentials {
  /** Takes the credentials of an invocation (ignored when it carries none). */
  update(ctx: FcContext): void;
  latest(): AliyunCredentials | undefined;
}

export function roleCredentials(): RoleCredentials {
  let current: AliyunCredentials | undefined;
  return {
    update: (ctx) => {
      if (ctx.credentials) current = ctx.credentials;
    },
    latest: () => current,
  };
}

/** What the functions' table signs with: the role for Tablestore; the DynamoDB API keeps its AWS_* key. */
export function tableSigning(kind: TableKind, role: RoleCredentials): Pick<OpenTableOptions, "credentials"> {
  return kind === "tablestore" ? { credentials: () => role.latest() } : {};
}
