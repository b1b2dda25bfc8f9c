"use client";
import { useState } from "react";
import { ActionForm } from "@/components/action-form";
import { Button, Field, Textarea } from "@/components/ui";
import { setChannelsAction } from "./actions";

export function ChannelsForm({ restricted, channels }: { restricted: boolean; channels: string[] }) {
  const [restrict, setRestrict] = useState(restricted);
  return (
    <ActionForm action={setChannelsAction} label="Channels the agent may work in" className="space-y-3">
      {({ error, pending }) => (
        <>
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" name="restrict" checked={restrict} onChange={(e) => setRestrict(e.target.checked)} className="h-4 w-4" />
            Only these channels may start sessions
          </label>
          {restrict && (
            <Field label="Channels (WORKSPACE/CHANNEL, one per line)" htmlFor="channels" error={error("channels")}>
              <Textarea id="channels" name="channels" rows={4} defaultValue={channels.join("\n")} placeholder="T0ACME/C0ENG" />
            </Field>
          )}
          <Button type="submit" disabled={pending}>
            Save channels
          </Button>
        </>
      )}
    </ActionForm>
  );
}
