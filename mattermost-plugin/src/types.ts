/**
 * The slice of the Mattermost webapp that this plugin touches. The webapp does not publish these
 * types as a package (every plugin declares the subset it uses), so they live here, kept loose:
 * what comes from the host is validated before use.
 */
import type * as React from 'react';

/** A post as it sits in Redux (`entities.posts.posts`) or comes from REST / WebSocket. */
export interface MmPost {
  id: string;
  channel_id?: string;
  root_id?: string;
  type?: string;
  message?: string;
  props?: Record<string, unknown> | null;
  create_at?: number;
  update_at?: number;
  edit_at?: number;
  delete_at?: number;
}

/** Mattermost theme colours (a subset; all are CSS colour strings, usually #rrggbb). */
export interface MmTheme {
  centerChannelBg?: string;
  centerChannelColor?: string;
  onlineIndicator?: string;
  awayIndicator?: string;
  dndIndicator?: string;
  errorTextColor?: string;
  linkColor?: string;
  buttonBg?: string;
  buttonColor?: string;
  [key: string]: unknown;
}

export interface MmState {
  entities?: {
    posts?: { posts?: Record<string, MmPost | undefined> };
    channels?: { currentChannelId?: string };
    teams?: {
      currentTeamId?: string;
      teams?: Record<string, { name?: string } | undefined>;
      /** the user's team memberships, keyed by team id */
      myMembers?: Record<string, unknown>;
    };
    preferences?: unknown;
  };
  [key: string]: unknown;
}

export interface MmStore {
  getState(): MmState;
  dispatch(action: unknown): unknown;
  subscribe(listener: () => void): () => void;
}

export interface MmWebSocketMessage {
  event?: string;
  data?: Record<string, unknown>;
  broadcast?: Record<string, unknown>;
  seq?: number;
}

export interface RhsRegistration {
  id?: string;
  showRHSPlugin?: unknown;
  hideRHSPlugin?: unknown;
  toggleRHSPlugin?: unknown;
}

/** The registry methods used; the optional ones are missing on older servers. */
export interface MmRegistry {
  registerPostTypeComponent(type: string, component: React.ComponentType<never>): unknown;
  registerRightHandSidebarComponent(
    component: React.ComponentType<never>,
    title: React.ReactNode,
  ): RhsRegistration;
  registerRootComponent(component: React.ComponentType<never>): unknown;
  registerWebSocketEventHandler(event: string, handler: (msg: MmWebSocketMessage) => void): unknown;
  unregisterWebSocketEventHandler?(event: string): unknown;
  registerReconnectHandler?(handler: () => void): unknown;
  registerChannelHeaderButtonAction?(
    icon: React.ReactNode,
    action: () => void,
    dropdownText: string,
    tooltipText: string,
  ): unknown;
  registerAppBarComponent?(iconUrl: string, action: () => void, tooltipText: string): unknown;
}
