// Inbound media of the DingTalk double (reference §4.5): `POST /v1.0/robot/messageFiles/download`
// turns a registered downloadCode into a temporary URL on the double, which serves the bytes.
import * as z from "zod";
import { apiError, json, type Route } from "../router.js";
import { requestId } from "../state.js";
import { checkAccessToken } from "./auth.js";

const DownloadBody = z.looseObject({ downloadCode: z.string().min(1), robotCode: z.string().min(1) });

export const fileRoutes: Route[] = [
  {
    name: "robot.messageFiles.download",
    method: "POST",
    path: "/v1.0/robot/messageFiles/download",
    handle(req, state) {
      const auth = checkAccessToken(req, state);
      if (!auth.ok) return auth.response;
      const body = DownloadBody.safeParse(req.json);
      if (!body.success) return apiError(400, "invalidParameter.robotCode.downloadCode", "downloadCode或robotCode为空", requestId());
      const file = state.files.get(body.data.downloadCode);
      if (!file) return apiError(400, "invalidParameter.robotCode.downloadCode", "downloadCode无效或已过期", requestId());
      const app = state.apps.get(auth.token.clientId);
      if (body.data.robotCode !== app?.robotCode || (file.robotCode && file.robotCode !== body.data.robotCode))
        return apiError(400, "invalidParameter.robotCode.auth", "robotCode与downloadCode不匹配", requestId());
      return json(200, { downloadUrl: `${state.baseUrl}/__files/${file.id}${file.fileName ? `/${encodeURIComponent(file.fileName)}` : ""}` });
    },
  },
  {
    name: "files.get",
    method: "GET",
    path: /^\/__files\/(?<id>[0-9a-f-]{36})(?:\/[^/]*)?$/,
    handle(req, state) {
      for (const file of state.files.values())
        if (file.id === req.params.id)
          return { status: 200, headers: { "content-type": file.contentType }, body: file.bytes };
      return { status: 404, headers: { "content-type": "text/plain" }, body: "not found" };
    },
  },
];
