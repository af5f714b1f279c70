import { createContext, useContext } from 'react';
import type { Api } from './client';

export const ApiContext = createContext<Api | null>(null);
export const useApi = () => useContext(ApiContext)!;
