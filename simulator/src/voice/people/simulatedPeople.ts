/**
 * The simulated people currently in voice, by user id (one voice connection per person; a person
 * joining another channel moves). Used by the in-process API and the control API.
 */
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import { SimulatedApiError } from "../../errors.ts";
import type { World } from "../../world.ts";
import type { VoiceServer } from "../voiceServer.ts";
import { SimulatedPerson, type PersonStatus } from "./simulatedPerson.ts";

export class SimulatedPeople {
  private readonly people = new Map<string, SimulatedPerson>();

  constructor(
    private readonly world: World,
    private readonly voice: VoiceServer,
  ) {}

  /** Joins (or moves) a simulated user; resolves once its voice connection is Ready. */
  async join(guildId: string, userId: string, channelId: string, opts: { selfDeaf?: boolean } = {}): Promise<SimulatedPerson> {
    if (userId === this.world.bot.id) throw new RangeError("The bot joins voice through the gateway (op 4), not as a simulated person");
    this.world.user(userId); // unknown user: a clear 404
    const existing = this.people.get(userId);
    if (existing && existing.guildId === guildId && existing.channelId === channelId) return existing;
    existing?.leave();
    const person = new SimulatedPerson(this.world, this.voice, guildId, userId, channelId, opts.selfDeaf ?? false);
    this.people.set(userId, person);
    try {
      await person.ready();
    } catch (error) {
      person.leave();
      this.people.delete(userId);
      throw error;
    }
    return person;
  }

  get(userId: string): SimulatedPerson {
    const person = this.people.get(userId);
    if (!person) throw new SimulatedApiError(404, RESTJSONErrorCodes.UnknownVoiceState, `User ${userId} is not a simulated person in voice`);
    return person;
  }

  leave(userId: string): void {
    this.get(userId).leave();
    this.people.delete(userId);
  }

  list(): PersonStatus[] {
    return [...this.people.values()].map((p) => p.status());
  }

  closeAll(): void {
    for (const p of this.people.values()) p.leave();
    this.people.clear();
  }
}
