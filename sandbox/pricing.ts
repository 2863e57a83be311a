import crypto from 'node:crypto';

import { kPostcodes, kRateCards, type RateCard } from './data';

/** Cubic conversion used for chargeable weight: kilograms per cubic metre. */
const kCubicFactor = 250;

export interface ItemRequest {
  type: string;
  quantity: number;
  length: number;
  width: number;
  height: number;
  weight: number;
}

export interface LocationRequest {
  postalCode: string;
  countryCode?: string;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

export function enrich(location: LocationRequest) {
  const countryCode = location.countryCode ?? 'AU';
  const place = countryCode === 'AU' ? kPostcodes[location.postalCode] : undefined;
  if (!place) return undefined;
  return { postalCode: location.postalCode, ...place, countryCode };
}

/** Echoes each item with centimetres for metres and its chargeable weight (actual or cubic, whichever is more). */
export function goodsFor(items: ItemRequest[]) {
  return items.map(item => {
    const cubic = item.length * item.width * item.height * kCubicFactor;
    return {
      type: item.type,
      quantity: item.quantity,
      length: round2(item.length * 100),
      width: round2(item.width * 100),
      height: round2(item.height * 100),
      weight: item.weight,
      chargeableWeight: round2(Math.max(item.weight, cubic) * item.quantity),
    };
  });
}

export interface Filters {
  carrierIds?: string[];
  serviceIds?: string[];
  rateCardIds?: string[];
  serviceTypes?: string[];
  serviceClasses?: string[];
}

/** A card is priced when it satisfies every non-empty dimension: AND across dimensions, OR within one. */
export function matchesFilters(card: RateCard, filters: Filters | undefined, combine: 'and' | 'or' = 'and'): boolean {
  const dimensions: [string[] | undefined, string][] = [
    [filters?.carrierIds, card.carrierId],
    [filters?.serviceIds, card.serviceId],
    [filters?.rateCardIds, card.rateCardId],
    [filters?.serviceTypes, card.serviceType],
    [filters?.serviceClasses, card.serviceClass],
  ];
  const active = dimensions.filter(([values]) => values && values.length > 0);
  if (active.length === 0) return true;
  const hit = ([values, value]: [string[] | undefined, string]) => values!.includes(value);
  return combine === 'and' ? active.every(hit) : active.some(hit);
}

export function priceCard(card: RateCard, chargeableWeight: number) {
  const amount = round2(card.base + card.perKg * chargeableWeight);
  const fuel = round2(amount * card.fuelLevyRate);
  const surcharges = [{ name: 'Fuel levy', description: `${Math.round(card.fuelLevyRate * 100)}% of freight`, key: 'FUEL', amount: fuel }];
  const gstAmount = round2((amount + fuel) * 0.1);
  return {
    rateId: crypto.randomUUID(),
    serviceName: card.serviceName,
    serviceId: card.serviceId,
    rateCardName: card.rateCardName,
    rateCardId: card.rateCardId,
    isSpotRate: card.spot,
    spotRateMessage: card.spot ? 'Spot rate valid for 24 hours' : '',
    amount,
    totalAmount: round2(amount + fuel + gstAmount),
    gstAmount,
    deliveryTime: `${card.minDays} - ${card.maxDays} business day(s)`,
    minTransitTime: card.minDays,
    maxTransitTime: card.maxDays,
    transitTimeUnit: 'D',
    surcharges,
  };
}

export function cardsFor(rateCardIds: string[], international: boolean): RateCard[] {
  return kRateCards.filter(card => rateCardIds.includes(card.rateCardId) && (card.serviceType === 'INTERNATIONAL') === international);
}

const kQuoteIdAlphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

/** Quote ids look like `K541037RNBUQ`: a letter and eleven more letters or digits. */
export function newQuoteId(): string {
  const bytes = crypto.randomBytes(11);
  return `K${[...bytes].map(byte => kQuoteIdAlphabet[byte % kQuoteIdAlphabet.length]).join('')}`;
}
