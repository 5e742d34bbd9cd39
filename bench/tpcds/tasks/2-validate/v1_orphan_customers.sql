-- Validate (referential integrity): sales whose customer is not in customer.
SELECT 'store_sales' AS fact, count(*) AS orphans FROM store_sales s
WHERE s.ss_customer_sk IS NOT NULL AND NOT EXISTS (SELECT 1 FROM customer c WHERE c.c_customer_sk = s.ss_customer_sk)
UNION ALL
SELECT 'catalog_sales', count(*) FROM catalog_sales s
WHERE s.cs_bill_customer_sk IS NOT NULL AND NOT EXISTS (SELECT 1 FROM customer c WHERE c.c_customer_sk = s.cs_bill_customer_sk)
UNION ALL
SELECT 'web_sales', count(*) FROM web_sales s
WHERE s.ws_bill_customer_sk IS NOT NULL AND NOT EXISTS (SELECT 1 FROM customer c WHERE c.c_customer_sk = s.ws_bill_customer_sk)
ORDER BY fact;
