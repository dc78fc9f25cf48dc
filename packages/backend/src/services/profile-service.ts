import { AppError } from '@plexus/kit';
import type { UserSimple } from '@plexus/protocol';
import type { ProfilePatch, Repository } from '../storage/repository.ts';
import { isEmptyAvatar3D, toUserSimple } from './user-simple.ts';

export interface ProfileServiceOptions {
  repo: Repository;
  clock: () => number;
  /** Called once a profile changed (the balancers must stop using what they cached). */
  onChanged?: (userId: string) => void;
}

/** The logged-in user's own profile (the User Simple fields). */
export class ProfileService {
  private readonly repo: Repository;
  private readonly clock: () => number;
  private readonly onChanged: (userId: string) => void;

  constructor(options: ProfileServiceOptions) {
    this.repo = options.repo;
    this.clock = options.clock;
    this.onChanged = options.onChanged ?? (() => {});
  }

  async get(userId: string): Promise<UserSimple> {
    const user = await this.repo.findUserById(userId);
    if (!user) throw new AppError('AUTH_INVALID_SESSION');
    return toUserSimple(user);
  }

  /** Applies the given fields; an empty avatar3D is stored as none, like null. */
  async update(userId: string, patch: ProfilePatch): Promise<UserSimple> {
    const normalised: ProfilePatch = { ...patch };
    if (normalised.avatar3D && isEmptyAvatar3D(normalised.avatar3D)) normalised.avatar3D = null;
    const user = await this.repo.updateProfile(userId, normalised, this.clock());
    if (!user) throw new AppError('AUTH_INVALID_SESSION');
    this.onChanged(userId);
    return toUserSimple(user);
  }
}
