"use server";
import { revalidatePath } from "next/cache";
import { toActionResult, type ActionResult } from "@/app/action-result";
import { currentUser } from "@/app/_auth/dal";
import { AppError } from "@/lib/errors";
import { serviceContext } from "@/lib/services/context";
import { listInput } from "@/lib/services/policy/edit";
import { setChannels } from "@/lib/services/policy/edit-domains";

// setChannelsAction — owner: which channels the agent may work in
export async function setChannelsAction(_prev: ActionResult, form: FormData): Promise<ActionResult> {
  const actor = await currentUser();
  const result = await toActionResult(() => {
    const restrict = form.get("restrict") === "on";
    const channels = restrict
      ? listInput(String(form.get("channels") ?? "")).map((entry) => {
          const [workspace, channel, extra] = entry.split("/");
          if (!workspace || !channel || extra !== undefined)
            throw new AppError("invalid_field", `channels: "${entry}" is not WORKSPACE/CHANNEL`, { field: "channels" });
          return { workspace, channel };
        })
      : null;
    setChannels({ ctx: serviceContext(), actor, input: { channels } });
  }, "Channels saved.");
  if (result?.ok) revalidatePath("/channels");
  return result;
}
