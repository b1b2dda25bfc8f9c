"use client";
import { useState } from "react";
import { Button } from "./ui";

/** Where the Clipboard API is missing (plain-HTTP origins, older browsers): copy via a selection. */
function copyBySelection(text: string): boolean {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try {
    return document.execCommand("copy");
  } finally {
    area.remove();
  }
}

/** Copies a value shown once (an API key) to the clipboard and says whether it worked. */
export function CopyButton({ value, label }: { value: string; label: string }) {
  const [status, setStatus] = useState<"idle" | "copied" | "failed">("idle");
  return (
    <span className="inline-flex items-center gap-2">
      <Button
        type="button"
        variant="secondary"
        aria-label={label}
        onClick={async () => {
          let ok = false;
          try {
            if (navigator.clipboard?.writeText) {
              await navigator.clipboard.writeText(value);
              ok = true;
            }
          } catch {
            ok = false;
          }
          if (!ok) ok = copyBySelection(value);
          setStatus(ok ? "copied" : "failed");
        }}
      >
        Copy
      </Button>
      <span role="status" className="text-xs text-slate-700">
        {status === "copied" ? "Copied." : status === "failed" ? "Copy failed: select the key and copy it by hand." : ""}
      </span>
    </span>
  );
}
