-- Denormalize: store sales joined with their date, item, customer, address and store.
CREATE OR REPLACE TABLE store_sales_wide AS
SELECT s.ss_ticket_number AS order_number, s.ss_item_sk AS item_sk, s.ss_customer_sk AS customer_sk,
  d.d_date AS sold_date, d.d_year AS year, d.d_moy AS month,
  i.i_category AS category, i.i_class AS class, i.i_brand AS brand,
  c.c_customer_id AS customer_id, ca.ca_state AS state,
  s.ss_store_sk AS outlet_sk, st.s_store_name AS outlet_name,
  s.ss_quantity AS quantity, s.ss_sales_price AS sales_price, s.ss_ext_sales_price AS ext_sales_price,
  s.ss_net_paid AS net_paid, s.ss_net_profit AS net_profit
FROM store_sales s
JOIN date_dim d ON d.d_date_sk = s.ss_sold_date_sk
JOIN item i ON i.i_item_sk = s.ss_item_sk
LEFT JOIN customer c ON c.c_customer_sk = s.ss_customer_sk
LEFT JOIN customer_address ca ON ca.ca_address_sk = c.c_current_addr_sk
LEFT JOIN store st ON st.s_store_sk = s.ss_store_sk;
