"use client";
import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { CODE_MESSAGES } from "@/app/_auth/messages";
import { Alert, Button, Field, Input } from "@/components/ui";

export function SignInForm({ notice }: { notice?: string }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  // Shown once the server says the account has a second factor; email and password stay filled.
  const [askCode, setAskCode] = useState(false);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setPending(true);
    setError(null);
    const result = await signIn("credentials", {
      redirect: false,
      email: String(form.get("email")),
      password: String(form.get("password")),
      code: String(form.get("code") ?? ""),
    });
    setPending(false);
    if (result?.ok && !result.error) {
      router.replace("/");
      router.refresh();
    } else {
      const message = result?.error && result.error !== "CredentialsSignin" ? result.error : "Wrong email or password.";
      if (CODE_MESSAGES.includes(message)) setAskCode(true);
      setError(message);
    }
  }

  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate>
      {notice && <Alert tone="green">{notice}</Alert>}
      {error && <Alert>{error}</Alert>}
      <Field label="Email" htmlFor="email">
        <Input id="email" name="email" type="email" autoComplete="username" required autoFocus />
      </Field>
      <Field label="Password" htmlFor="password">
        <Input id="password" name="password" type="password" autoComplete="current-password" required />
      </Field>
      {askCode && (
        <Field label="Authentication code" htmlFor="code">
          <Input id="code" name="code" inputMode="numeric" autoComplete="one-time-code" required autoFocus />
        </Field>
      )}
      <Button type="submit" className="w-full" disabled={pending}>
        {pending ? "Signing in…" : "Sign in"}
      </Button>
    </form>
  );
}
