import { useState, type FormEvent } from "react";
import { useFeedback } from "../feedback.tsx";
import { useLobby } from "../lobby-context.ts";
import { navigate, tablePath } from "../route.ts";

/** "Start a table": name, seats, private. The new table opens as its own page. */
export function CreateTable({ seatedAt }: { seatedAt: string | null }) {
  const { client } = useLobby();
  const feedback = useFeedback();
  const [name, setName] = useState("");
  const [seats, setSeats] = useState("4");
  const [isPrivate, setPrivate] = useState(false);
  const [invalid, setInvalid] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const userLimit = Number(seats);
    if (!Number.isInteger(userLimit) || userLimit < 1 || userLimit > 99) {
      setInvalid("Seats must be a whole number from 1 to 99.");
      return;
    }
    setInvalid(null);
    setBusy(true);
    try {
      const room = await client.createRoom({ ...(name.trim() ? { name: name.trim() } : {}), userLimit, private: isPrivate });
      setName("");
      feedback.fixed("create");
      feedback.info(`Table "${room.name}" is ready.${room.private ? " Invite your players with a link." : ""}`);
      navigate(tablePath(room.channelId));
    } catch (err) {
      feedback.failed("create", err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card create" aria-labelledby="create-heading">
      <h2 id="create-heading">Start a table</h2>
      <form className="stack" noValidate onSubmit={(e) => void onSubmit(e)}>
        <label htmlFor="room-name">Table name</label>
        <input
          id="room-name"
          type="text"
          maxLength={100}
          placeholder="Friday Commander"
          autoComplete="off"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <label htmlFor="room-seats">Seats</label>
        <input
          id="room-seats"
          type="number"
          min={1}
          max={99}
          inputMode="numeric"
          value={seats}
          onChange={(e) => setSeats(e.target.value)}
          aria-invalid={invalid ? true : undefined}
        />
        <label className="check" htmlFor="room-private">
          <input id="room-private" type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.target.checked)} />
          <span>Private: only players you invite can join</span>
        </label>
        {seatedAt && <p className="muted small">You sit at {seatedAt}: starting a table gives up that seat (one table at a time).</p>}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Creating…" : "Create table"}
        </button>
        {invalid && (
          <p className="error" role="alert">
            {invalid}
          </p>
        )}
      </form>
    </section>
  );
}
