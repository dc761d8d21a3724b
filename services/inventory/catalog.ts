/** The inventory's in-memory catalog. Stock is large so load tests never run out by accident. */
export interface Product {
  sku: string;
  name: string;
  priceCents: number;
  stock: number;
}

/** A sku with no stock: reserving it is a business error (FAILED_PRECONDITION -> 409). */
export const OUT_OF_STOCK_SKU = "sku-out";

export function createCatalog(): Map<string, Product> {
  const catalog = new Map<string, Product>();
  for (let i = 1; i <= 20; i++) {
    catalog.set(`sku-${i}`, { sku: `sku-${i}`, name: `Product ${i}`, priceCents: 100 * i + 99, stock: 1_000_000_000 });
  }
  catalog.set(OUT_OF_STOCK_SKU, { sku: OUT_OF_STOCK_SKU, name: "Sold out", priceCents: 999, stock: 0 });
  return catalog;
}
