export type { Page, RsmRequest, RsmResponse } from './rsm.js'
export { NS_RSM, paginate, parseRsm, rsmElement } from './rsm.js'
export type {
  LegacySearchField,
  SearchCriteria,
  SearchHandle,
  SearchItem,
  SearchOptions,
  SearchPaging,
  SearchResult,
} from './search.js'
export { NS_SEARCH, search } from './search.js'
